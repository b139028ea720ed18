"""Drop-in modules for code written against the older nanomsg bindings.

Change one import and keep the rest of the program, and its wire protocol:

.. code-block:: python

    import nanomsg_rs.compat.nnpy as nnpy  # instead of: import nnpy
    from nanomsg_rs.compat import nanomsg  # instead of: import nanomsg

- :mod:`nanomsg_rs.compat.nnpy`: the public API of nnpy 1.4.2 (cffi);
- :mod:`nanomsg_rs.compat.nanomsg`: the public API of nanomsg-python 1.0 (PyPI ``nanomsg``).

Both run on nanomsg_rs: blocking calls release the GIL and answer Ctrl-C, a closed socket
raises the original error class instead of acting on a recycled socket number, and the
library underneath is the hardened libnanomsg. Where the originals crash, hang or fail
silently, the compat modules raise the original exception class instead; each such place says
so in its docstring ("Differs from ..."). Every compat socket carries its
:class:`nanomsg_rs.Socket` as ``.socket``, for moving on to the native API one call at a time.
"""
