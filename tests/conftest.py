pytest_plugins = ["tests.fix_db", "tests.fix_mqtt", "tests.fix_system"]
