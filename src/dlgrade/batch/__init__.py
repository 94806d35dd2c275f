"""Many submissions: entries, runs, pools, gradebooks, exports."""
