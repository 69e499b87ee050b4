"""A no-op job in a module that imports nothing: what RQ itself costs per job."""


def noop():
    return None
