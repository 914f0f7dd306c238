/** Cleaning: stateless per-message checks (`cleanMessage`) and stateful per-asset screening (`screenSamples`). */
export * from './clean.ts';
export * from './counts.ts';
export * from './reasons.ts';
export * from './screen.ts';
export * from './screen-events.ts';
