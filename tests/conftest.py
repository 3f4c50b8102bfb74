pytest_plugins = ["tests.fix_db", "tests.fix_mqtt", "tests.fix_system", "tests.fix_browser", "tests.fix_up"]
