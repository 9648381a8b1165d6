"""Demos for the notebook: they run YOUR functions and show what they compute.

Nothing here is a solution. Every demo takes the functions you wrote as
arguments and uses only them and the helpers, so a demo is only as right as
your code: if a plot looks wrong, look at the function it calls.

Notation (as in the course): W^(l) has shape (n_l, n_{l-1}), b^(l) has shape
(n_l, 1), and examples are columns, so X is (n_0, N) and Y is (n_L, N).

One demo per module; the notebook calls each of them through this one, as demos.<name>:
- once_filled_in()         a context manager: an unfinished stub prints which function to fill in
                           (demo_plumbing.py, with the figures and widgets every demo shares)
- plot_activations         each activation and its derivative (after question 3; demo_activations.py)
- trace_worked_example     the chapter's 2-3-1 example, number by number (after question 6;
                           demo_worked_example.py)
- explore_tiny_relu_net    the lecture's one-neuron ReLU network, with sliders (after question 6;
                           demo_tiny_net.py)
- xor_experiment           a linear model against 2-H-1 networks on XOR (after question 8; demo_xor.py)
- digits_experiment        64-32-10 networks on handwritten digits (demo_digits.py)
- gradient_flow            the size of delta^(l) layer by layer in deep networks (demo_gradient_flow.py)
- gradient_cost            finite differences against backpropagation: agreement and cost,
                           counted and timed (demo_cost.py)
"""

from backprop_lab.demo_activations import plot_activations
from backprop_lab.demo_cost import gradient_cost
from backprop_lab.demo_digits import digits_experiment
from backprop_lab.demo_gradient_flow import gradient_flow
from backprop_lab.demo_plumbing import COLOURS, FILL_IN_FIRST, once_filled_in
from backprop_lab.demo_tiny_net import SLIDER_DEFAULTS, SLIDER_RANGE, TINY_NET_TARGET, explore_tiny_relu_net
from backprop_lab.demo_worked_example import CHAPTER, trace_worked_example
from backprop_lab.demo_xor import xor_experiment

__all__ = [
    "once_filled_in", "FILL_IN_FIRST", "plot_activations", "trace_worked_example", "explore_tiny_relu_net",
    "xor_experiment", "digits_experiment", "gradient_flow", "gradient_cost",
    "SLIDER_DEFAULTS", "SLIDER_RANGE", "TINY_NET_TARGET", "CHAPTER", "COLOURS",
]  # fmt: skip
