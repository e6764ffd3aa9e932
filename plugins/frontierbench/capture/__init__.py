"""What runs inside pytest: the `frontier` fixture, the session, the environment, the meters."""
