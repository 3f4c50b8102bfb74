"""Demo city simulator: devices and department systems of 郴州 publishing over MQTT."""
