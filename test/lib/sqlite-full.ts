/** SQLITE_FULL on demand, for the tests of a full disk where no small filesystem can be mounted. */
import type Database from 'better-sqlite3';

/** Caps the file at its current size, then fills the free pages: every further page allocation of this connection fails with SQLITE_FULL. */
export function fillSqliteToFull(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS test_filler (b BLOB)');
  db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
  for (;;) {
    try {
      db.prepare('INSERT INTO test_filler VALUES (zeroblob(512))').run();
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_FULL') return;
      throw err;
    }
  }
}
