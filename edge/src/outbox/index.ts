export { Outbox, type OutboxOptions, type OutboxRun, type OutboxCounters } from './outbox.js';
export { type PendingDrop, type Range, MAX_RANGES_PER_EVENT } from './drops.js';
export { type ExportOptions, EXPORT_KIND, EXPORT_VERSION } from './export.js';
export { OutboxGroupWriter, type GroupWriterOptions, type SeqRange } from './group-writer.js';
export { OutboxReader, type OutboxReaderOptions } from './reader.js';
export { type OutboxCaps } from './state.js';
