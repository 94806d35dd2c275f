"""What graders import: checks, cases, patterns, backprop, memo."""
