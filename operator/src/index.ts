// Filled in by its own issue (see README "Layout"); the package exists so the workspace is complete.
export {};
