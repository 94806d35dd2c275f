"""The shared vocabulary: course model, results, calls, plain data, atomic files."""
