"""``trame init``: a territory config and legend written from the data the officer already has.

It looks through folders, zip files, GeoPackages, GeoJSON and FlatGeobuf files
(:mod:`.discover`), recognises the SRCE tables of the COVADIS schema and an IGN Admin
Express-like communes layer (:mod:`.recognise`), selects the territory's communes and writes
them to the territory folder (:mod:`.communes`, with postcodes and EPCI names from
``@etalab/decoupage-administratif``, :mod:`.codes`), builds the legend on the DDTM map's items
(:mod:`.legend`) and writes a commented config that ``trame build`` accepts as is
(:mod:`.write`). What it could not place, it says, with what to write by hand (:mod:`.run`).
"""
