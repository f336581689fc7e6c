"""Runs the pinned moto server as the project's AWS emulator, minus its Lambda pollers.

moto cannot run Lambda functions here (it would need Docker), yet on every SendMessage to a
queue with an event source mapping it receives a batch itself, fails to invoke the function,
and makes the messages visible again. Each of those receives counts towards the queue's
maxReceiveCount, so a burst of uploads pushed the first events into the DLQ before the local
executor, which plays Lambda's pollers, ever saw them. Mappings stay declared and readable
through the Lambda API; only moto's own polling is switched off.

Usage: python serve.py [moto_server arguments, e.g. -H 127.0.0.1 -p 5000]
"""

import sys

from moto.server import main
from moto.sqs import models as sqs_models


class _NotPolledByMoto(dict):
    """A queue's mapping registry that moto's own poller never sees an entry in."""

    def __setitem__(self, key, value):
        pass


_queue_init = sqs_models.Queue.__init__


def _queue_without_moto_pollers(self, *args, **kwargs):
    _queue_init(self, *args, **kwargs)
    self.lambda_event_source_mappings = _NotPolledByMoto()


sqs_models.Queue.__init__ = _queue_without_moto_pollers

if __name__ == "__main__":
    sys.exit(main())
