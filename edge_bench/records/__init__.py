"""The typed job record: what measuring produces and every reader consumes."""
