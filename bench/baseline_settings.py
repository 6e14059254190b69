"""The product's own settings with a bare view as the only URL: the answer page's baseline."""

from csat_platform.settings import *  # noqa: F403

ROOT_URLCONF = "bench.baseline_urls"
