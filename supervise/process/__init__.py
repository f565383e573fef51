"""Process lifecycle: the state machine, spawning children, groups and their order."""
