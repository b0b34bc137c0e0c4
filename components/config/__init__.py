"""The typed, validated stack config: the user-facing contract of the program."""

from .base import NAMESPACE, ConfigError, Issue
from .clusters import ClusterConfig, EndpointConfig, NetworkConfig, NodePoolConfig, Taint
from .loader import load_stack_config, namespace_settings, parse_stack_config, read_stack_file
from .stack import Residency, StackConfig

__all__ = [
    "NAMESPACE",
    "ClusterConfig",
    "ConfigError",
    "EndpointConfig",
    "Issue",
    "NetworkConfig",
    "NodePoolConfig",
    "Residency",
    "StackConfig",
    "Taint",
    "load_stack_config",
    "namespace_settings",
    "parse_stack_config",
    "read_stack_file",
]
