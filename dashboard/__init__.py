"""The Dash command center: big-screen map, township desk, command desk, incident timelines."""
