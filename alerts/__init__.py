"""Alerts: rules turn data into warnings; warnings become incidents that run the closed loop."""
