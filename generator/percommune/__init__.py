"""Every commune's outputs, in chunks on the build's pool: figures, page, static map, API files
and short address, then merged in INSEE order.

- :mod:`.chunks`: the territory cut into chunks of neighbouring communes, each with what its
  communes' outputs read;
- :mod:`.render`: one commune's files, and a chunk's task on a worker;
- :mod:`.reuse`: each commune's key, and what an incremental build keeps from the history;
- :mod:`.stage`: the stage itself (:func:`render_communes`), merged in INSEE order.
"""

from .reuse import CACHE_FIELD, read_previous
from .stage import RenderedCommunes, render_communes

__all__ = ["CACHE_FIELD", "RenderedCommunes", "read_previous", "render_communes"]
