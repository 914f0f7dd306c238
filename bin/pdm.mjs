#!/usr/bin/env node
// The published command runs the TypeScript entry point through tsx, so `npx pdm` works
// straight after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
await import('./pdm.ts');
