"""Property-based checks for recurrent cells: strategies, properties and a runner."""
from . import properties, strategies
from .properties import (
                         PROPERTIES,
                         causal,
                         cell_state_jacobian_matches_closed_form,
                         unroll_gradients_match_finite_differences,
                         user_cell_gradients,
                         vjp_dot_product,
)
from .runner import Result, format_table, run_properties

__all__ = ["PROPERTIES", "Result", "causal", "cell_state_jacobian_matches_closed_form",
           "format_table", "properties", "run_properties", "strategies",
           "unroll_gradients_match_finite_differences", "user_cell_gradients",
           "vjp_dot_product"]
