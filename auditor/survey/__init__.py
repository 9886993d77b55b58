"""Surveys: install many projects, each into its own throwaway environment, and scan them.

A survey task is one (project, Python) pair; an executor (a local process
pool or a Dask cluster) runs the tasks, and the client (:mod:`.client`)
stores every result as it arrives so that a killed survey resumes.
"""
