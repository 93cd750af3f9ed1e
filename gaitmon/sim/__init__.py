"""Simulated walker/runner with a sacral IMU and known truth (the ground truth of the tests,
the source of the demo and of the virtual sensor)."""

from gaitmon.sim.model import SimConfig, SimRecording, SimTruth, axis_vector, nominal_mount, simulate

__all__ = ["SimConfig", "SimRecording", "SimTruth", "simulate", "axis_vector", "nominal_mount"]
