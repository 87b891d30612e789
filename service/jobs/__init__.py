"""Background work on Huey: operations run one at a time per investigation, in order; recovery at start-up."""
