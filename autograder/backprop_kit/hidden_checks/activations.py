"""The activation questions' checks: sigmoid, tanh and relu, forward and backward."""

from backprop_lab import config
from backprop_lab.checking import Case
from backprop_lab.expectations import expect_array
from backprop_lab.finite_differences import fd_gradient_of_projection

from .inputs import activation_input, extreme_input, shapes, signed
from .loading import reference
from .oracles import REF, REF_FORWARD, expect_gradient


def activation_cases(kind):
    fwd, bwd = f"{kind}_forward", f"{kind}_backward"
    R = reference

    def forward_on(c, Z):
        expect_array(f"{fwd} → A", c.call(fwd, Z), getattr(R(), fwd)(Z), config.TOL_REFERENCE, {"Z": Z}, REF_FORWARD)

    def backward_on(c, Z, dA):
        expect_gradient(
            f"{bwd} → dZ", c.call(bwd, dA, Z), getattr(R(), bwd)(dA, Z), {"dA": dA, "Z": Z},
            lambda: fd_gradient_of_projection(c, fwd, (Z,), 0, dA), mask=Z != 0, forward_passed=fwd not in c.failed,
        )

    def visible_forward(c, rng):
        forward_on(c, activation_input(rng, kind, (2, 3)))

    def visible_backward(c, rng):
        backward_on(c, activation_input(rng, kind, (2, 3)), signed(rng, (2, 3), phase=1))

    def hidden_forward(c, rng):
        for rows, _, cols in shapes(rng):
            forward_on(c, activation_input(rng, kind, (rows, cols)))

    def hidden_backward(c, rng):
        for rows, _, cols in shapes(rng):
            backward_on(c, activation_input(rng, kind, (rows, cols)), signed(rng, (rows, cols), phase=1))

    def extremes(shape):
        def run(c, rng):
            Z, dA = extreme_input(rng, shape), signed(rng, shape, phase=1)
            label = f"for |z| up to {config.EXTREME_Z:g}"
            expect_array(f"{fwd} → A {label}", c.call(fwd, Z), getattr(R(), fwd)(Z), config.TOL_REFERENCE, {"Z": Z}, REF)
            expect_array(f"{bwd} → dZ {label}", c.call(bwd, dA, Z), getattr(R(), bwd)(dA, Z), config.TOL_REFERENCE, {"dA": dA, "Z": Z}, REF)

        return run

    zeros = ", with exact zeros in Z (derivative 0 at 0)" if kind == "relu" else ""
    visible = [
        Case(f"{fwd} matches the reference on fresh inputs", visible_forward, functions=(fwd,)),
        Case(f"{bwd} gives dA ⊙ f'(Z) on fresh inputs{zeros}", visible_backward, functions=(bwd,)),
    ]
    if kind != "relu":
        visible.append(Case(f"{fwd} and {bwd} are finite and right at z = ±{config.EXTREME_Z:g}", extremes((1, 4)), functions=(fwd, bwd)))
    hidden = [
        Case(f"{fwd} matches the reference on square and non-square inputs, N = 1 and N > 1", hidden_forward, functions=(fwd,)),
        Case(f"{bwd} matches the reference on square and non-square inputs{zeros}", hidden_backward, functions=(bwd,)),
        Case(f"{fwd} and {bwd} are finite and right for |z| up to {config.EXTREME_Z:g}", extremes((3, 4)), functions=(fwd, bwd)),
    ]
    return visible, hidden
