#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { runCli } from '../../scripts/bin-shim.mjs';
await runCli(fileURLToPath(new URL('..', import.meta.url)));
