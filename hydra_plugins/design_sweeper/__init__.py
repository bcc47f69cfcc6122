"""The design sweeper: SALib designs (Sobol, Morris, Latin hypercube) and factorial grids as Hydra sweeps.

Select it with ``hydra/sweeper=design``; see :mod:`.design_sweeper` for the settings.
"""
