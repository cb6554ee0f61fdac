"""The backprop stepper: one training step written out number by number.

    from core.teaching.stepper import insurance_neuron, insurance_batch, walk_through
    model = insurance_neuron()                 # w1 = w2 = 1, b = 0, η = 0.5 (the course's start)
    walk = walk_through(model, insurance_batch([0]))
    for step in walk.steps:
        print(step.kind, step.symbol, step.value)
        print(step.formula)                    # "∂L/∂w1 = ∂L/∂ŷ · ∂ŷ/∂z · ∂z/∂w1 ..."
    walk.checks                                # analytic vs centred finite differences
    apply_update(model, walk)                  # take the step; walk again from the new weights

Qt-free; the lessons "Backprop, step by step" and "Chain rule" draw from it.
"""
from core.teaching.stepper.cases import (AGE_SCALE, COURSE_LEARNING_RATE, COURSE_START, Batch,
                                         hidden_layer_network, insurance_batch, insurance_neuron,
                                         insurance_table)
from core.teaching.stepper.chain import ChainEdge, ChainGraph, ChainNode, neuron_chain
from core.teaching.stepper.fd import centred_differences, loss64
from core.teaching.stepper.numbers import num
from core.teaching.stepper.walk import (PHASE_TITLES, PHASES, GradientCheck, Step, Target, Walkthrough,
                                        apply_update, walk_through)

__all__ = [
    "AGE_SCALE", "COURSE_LEARNING_RATE", "COURSE_START", "Batch", "ChainEdge", "ChainGraph",
    "ChainNode", "GradientCheck", "PHASES", "PHASE_TITLES", "Step", "Target", "Walkthrough",
    "apply_update", "centred_differences", "hidden_layer_network", "insurance_batch",
    "insurance_neuron", "insurance_table", "loss64", "neuron_chain", "num", "walk_through",
]
