"""Runs: Run, StepRun and RunEvent arrive with the engine-core issue."""
