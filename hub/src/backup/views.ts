/**
 * What the API shows of the hub's backups (types only: the admin console imports this module
 * without the hub's code).
 */

export interface BackupFile {
  name: string;
  file: string;
  bytes: number;
  /** The file's modification time: when the copy got its name. */
  createdAt: number;
  /** Checked when made (integrity, schema version): what the audit log recorded, or null. */
  check: { sha256: string; schemaVersion: number; by: string; auditSeq: number } | null;
  /** The last time it was checked again (verify), or null. */
  lastVerified: { at: number; ok: boolean; by: string } | null;
}

export interface BackupVerification {
  name: string;
  ok: boolean;
  sha256: string;
  /** Whether the file is still the copy the audit log recorded; null: none on record. */
  matchesRecord: boolean | null;
  schemaVersion: number;
  /** What is wrong, for a person (empty when ok). */
  problems: string[];
  durationMs: number;
}

/** GET /backups: the folder, where the secret key is kept (not in a backup), and the copies. */
export interface BackupListing {
  dir: string;
  secretKey: string;
  running: boolean;
  backups: BackupFile[];
}
