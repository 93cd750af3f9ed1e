"""Simulated walker/runner with a sacral IMU and known truth (the ground truth of the tests,
the source of the demo and of the virtual sensor); ``simulate_from_mocap`` builds the same kind of
recording from real optical motion capture (docs/mocap.md)."""

from gaitmon.sim.model import SimConfig, SimRecording, SimTruth, axis_vector, nominal_mount, simulate
from gaitmon.sim.mocap import MocapConfig, MocapRecording, simulate_from_mocap, synthesize

__all__ = ["SimConfig", "SimRecording", "SimTruth", "simulate", "axis_vector", "nominal_mount",
           "MocapConfig", "MocapRecording", "simulate_from_mocap", "synthesize"]
