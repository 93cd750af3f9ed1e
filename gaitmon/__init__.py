"""gaitmon — open gait monitor for runners: pelvic drop per step from one sacral IMU."""
__version__ = "0.1.0"
