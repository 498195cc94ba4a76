"""Calibration: observers score the same lesson blind, and the agreement engine compares them."""
