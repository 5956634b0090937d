"""Releases: every build is a release with an id, and the published site holds them all.

- ``history``: the history folder (``releases/<slug>/`` by default), a content-addressed store of
  every release's files (identical files, tiles above all, are stored once), the listing of each
  release and a log saying which were published, built or replaced.
- ``changes``: what changed in each commune since the previous release (added, removed and
  modified elements, figures before and after).
- ``renamed``: communes merged into others (old INSEE -> new INSEE) and their old addresses.
- ``render``: what a release adds to the pages (version, citation, JSON-LD, list of versions,
  changes, embed pages, the versions page and ``api/versions.json``).
- ``site``: the published site assembled from the history: ``versions/<id>/`` for every release
  and the latest one at the current addresses.
"""
