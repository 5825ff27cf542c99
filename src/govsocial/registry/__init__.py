"""Who is measured: clusters, institutions and their accounts, loaded from YAML or CSV."""

from govsocial.registry.load import default_clusters, read_registry
from govsocial.registry.models import PLATFORMS, Account, Cluster, Institution, Registry

__all__ = [
    "PLATFORMS",
    "Account",
    "Cluster",
    "Institution",
    "Registry",
    "default_clusters",
    "read_registry",
]
