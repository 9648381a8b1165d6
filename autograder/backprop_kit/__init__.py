"""Instructor side of the backprop assignment: hidden checks, build and grading."""
