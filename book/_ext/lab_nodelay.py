"""A Jupyter server extension: the kernel's websocket sends every message at once (TCP_NODELAY).

Tornado leaves Nagle's algorithm on for a websocket unless its handler turns it off, and jupyter_server
(2.x) does not. A kernel answers in several small messages in a row (busy, the reply, idle; for a
widget, the echo and the update); with Nagle on, a message can wait until the browser has acknowledged
the previous one, and Linux delays that acknowledgement by up to 40 ms. So a live widget's answer often
arrives 40 ms late. ``make lab`` and the JupyterLab benchmark and test load this extension.
"""

from __future__ import annotations


def _jupyter_server_extension_points():
    return [{"module": "lab_nodelay"}]


def _load_jupyter_server_extension(serverapp) -> None:
    from jupyter_server.services.kernels.websocket import KernelWebsocketHandler

    if getattr(KernelWebsocketHandler, "_lessons_nodelay", False):
        return
    opened = KernelWebsocketHandler.open

    async def open(self, *args, **kwargs):
        self.set_nodelay(True)
        return await opened(self, *args, **kwargs)

    KernelWebsocketHandler.open = open
    KernelWebsocketHandler._lessons_nodelay = True
    serverapp.log.info("lab_nodelay: kernel websockets send without delay (TCP_NODELAY)")
