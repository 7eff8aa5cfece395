from . import test_self_service
