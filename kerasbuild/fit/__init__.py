"""Training: optimisers (with variable momentum), schedules, callbacks, run directories."""
