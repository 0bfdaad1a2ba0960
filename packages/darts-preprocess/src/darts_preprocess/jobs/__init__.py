"""Running the per-scene jobs: one scene start to finish, in threads or on dask workers, its resumable
cache, and the thread and memory settings of a process that preprocesses scenes.
"""
