"""The SimPy world: households, camps, crossings and their capacity, and the daily recorder.

Nothing here prints, reads files or imports pandas: the engine hands the model plain scenario
objects and gets numpy counters back.
"""
