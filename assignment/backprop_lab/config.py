"""Every knob of the assignment, in one place.

Points, tolerances, thresholds, training settings and grading limits all live
here. The build copies this file into the student handout (the public checks
read the tolerances) and into the autograder, so a change here followed by
`make build` changes every artefact at once.
"""

# --------------------------------------------------------------------------
# Points per question: (visible, hidden). Every point comes from agreeing with
# the hidden reference on fresh random inputs. The visible part has the shape of
# the public checks students run with grader.check(...) and is reported at once;
# the hidden part (more shapes, deep nets, extremes, training) is reported under
# HIDDEN_VISIBILITY. Within each part, a question's points are shared among its
# checks by their fixed weights.
# --------------------------------------------------------------------------
POINTS = {
    "sigmoid": (1, 4),
    "tanh": (1, 4),
    "relu": (1, 4),
    "dense": (2, 8),
    "losses": (2, 8),
    "network": (4, 16),
    "sgd": (1, 4),
    "train": (4, 16),
}
QUESTIONS = tuple(POINTS)

# How network and train are marked:
# - "follow_through" (expert graders' "error carried forward"): a check of forward, backward or
#   train runs on the student's own lower functions and, if it fails, again with the reference
#   answering for them (activations, dense, losses; for train also forward, backward and
#   sgd_update). It counts if either run agrees with the reference, so a bug costs points only in
#   the question of the function that has it.
# - "end_to_end": only the student's own functions are used.
MARKING = "follow_through"

# Written questions, graded by hand on Gradescope (otter manual questions): points each.
WRITTEN_POINTS = {
    "written_zero_init": 2,
    "written_vanishing": 2,
    "written_finite_differences": 2,
}

# Gradescope visibility of the hidden part of each question:
# "visible", "hidden", "after_due_date" or "after_published".
HIDDEN_VISIBILITY = "after_published"

# --------------------------------------------------------------------------
# Numerical tolerances. Errors are norm-wise relative errors,
#   ||actual - expected|| / max(||actual|| + ||expected||, REL_ERROR_FLOOR),
# computed in float64.
# --------------------------------------------------------------------------
REL_ERROR_FLOOR = 1e-8  # so that rounding noise on all-tiny arrays (e.g. sigmoid' at |z| = 1000) is not an error
TOL_REFERENCE = 1e-7  # student output against the hidden reference
TOL_FINITE_DIFF = 1e-6  # student backward against centred differences of the student's forward
FD_STEP = 1e-5  # step h of the centred difference (f(x+h) - f(x-h)) / 2h
FD_NOISE_FACTOR = 64.0  # rounding noise allowed per difference: factor * eps * max|f| / h
RELU_KINK_MARGIN = 1e-3  # finite-difference points keep |z| at least this far from ReLU's kink
TOL_TRAJECTORY = 1e-8  # train: losses and parameters along a trajectory, against the reference
TOL_LONG_TRAJECTORY = 1e-5  # train: the losses of a whole XOR or digits run (rounding grows over thousands of steps)
TRAJECTORY_EPOCHS = 2  # XOR and digits: these first epochs must give the reference's params and losses exactly
TOL_WORKED_EXAMPLE = 5e-7  # absolute: the chapter prints six decimals
EXTREME_Z = 1000.0  # activations and softmax must stay finite for |z| up to this

# --------------------------------------------------------------------------
# Training checks
# --------------------------------------------------------------------------
WORKED_EXAMPLE_LEARNING_RATE = 0.5
WORKED_EXAMPLE_LOSS_AFTER_ONE_STEP = 0.297599  # printed in the chapter

XOR = {
    "hidden_units": 8,
    "learning_rate": 5.0,
    "epochs": 500,
    "seeds": {"sigmoid": 0, "tanh": 0, "relu": 0},
}

DIGITS = {
    "hidden_units": 32,
    "learning_rate": 0.5,
    "epochs": 30,
    "batch_size": 32,
    "init_seed": 0,
    "shuffle_seed": 0,
    "split_seed": 0,
    "test_fraction": 0.25,
    "min_test_accuracy": 0.95,
    "activations": ("sigmoid", "tanh", "relu"),
}

# Backward must be backpropagation: on this wide network, it may take at most
# factor x (forward's time) + floor_s seconds. Backpropagation takes about one forward
# (even written with Python loops); numerical differentiation takes one or two forwards
# per parameter (about 400 000 here), which is minutes.
BACKPROP_COST = {
    "sizes": (256, 512, 512, 10),
    "activations": ("tanh", "relu", "identity"),
    "examples": 2,
    "factor": 50.0,
    "floor_s": 20.0,
}

# Packages student code cannot import while grading: the assignment is numpy only, and these
# would do the work (an MLP's backprop, automatic differentiation).
UNAVAILABLE_PACKAGES = ("sklearn", "torch", "tensorflow", "keras", "jax", "autograd")

# --------------------------------------------------------------------------
# Grading limits (per submission)
# --------------------------------------------------------------------------
CELL_TIMEOUT_S = 60.0  # a notebook cell running longer is interrupted; execution goes on
CALL_TIMEOUT_S = 60.0  # one call of a student function during the checks: the floor of its limit
# On a slow or busy machine the limits grow: at the start of each grading, the reference's own time
# for a whole digits training (DIGITS below, sigmoid; 0.2 s on an idle 2-core machine) is measured;
# a call or a cell may take TIME_FACTOR times that, and never less than the floors above. A correct
# solution written with Python loops over every index takes about 135 times the reference.
TIME_FACTOR = 300.0
SUBMISSION_BUDGET_S = 600.0  # everything for one submission, execution and checks
CHECKS_RESERVE_S = 180.0  # notebook execution stops early so that the checks keep at least this much
INTERRUPT_GRACE_S = 3.0  # after an interrupt, how long to wait before killing the worker
MAX_RESTARTS = 3  # a dead or stuck worker is restarted at most this often while the notebook runs,
MAX_CHECK_RESTARTS = 12  # and this many more times during the checks (a function that ends its process
#                          twice is not called again: its checks fail, and the checks above use the reference's)
# Memory. The process running student code may use MEMORY_LIMIT_MB of address space, or less where
# the machine (or container: Gradescope's default has 768 MB) has less: its memory minus
# GRADER_RESERVE_MB for the grader and minus the sandbox's private file systems below.
# On Gradescope, raising the container's memory raises this limit with it.
MEMORY_LIMIT_MB = 4096
GRADER_RESERVE_MB = 256  # the grader's own share; it runs under a limit of GRADER_MEMORY_MB address space
GRADER_MEMORY_MB = 2048
MEMORY_RESTART_SHARE = 0.5  # a cell hitting the memory limit while its process still holds more than
#                             this share of it is treated like an OOM-killed kernel: restart without it
GROUP_SLACK_MB = 64  # where cgroups can be made, a worker and all it starts may hold its memory limit, its
#                      file systems and this much more in all (memory no per-process limit counts)
MEMORY_HOG_SHARE = 0.9  # so is a cell after which its process holds more than this share of the limit
FILE_SIZE_LIMIT_MB = 64  # largest file student code may write
SANDBOX_DISK_MB = 64  # all the files of the work folder together (a tmpfs in the jail; it counts as memory)
SANDBOX_TMP_MB = 32  # size of the private /tmp inside the jail (and 16 MB of /dev/shm)
MAX_PROCESSES = 64  # processes each sandbox's unprivileged user may run (where one is used)
# How strongly student code is shut in (see backprop_kit/sandbox/jail.py): "namespace" (the strongest the
# machine allows), "user" (never namespaces: an unprivileged user per sandbox, confined by
# Landlock where the kernel has it) or "none".
ISOLATION = "namespace"
SANDBOX_UIDS = (61000, 1000)  # when grading runs as root: each concurrent sandbox gets its own uid from this range
OUTPUT_CAP_PER_CELL = 20_000  # characters of a cell's output kept for the report
OUTPUT_CAP_TOTAL = 200_000  # characters of output kept per submission
RESULT_TEXT_CAP = 20_000  # characters of each text field of results.json (the student controls error messages)
NOTEBOOK_SIZE_LIMIT_MB = 64  # larger submitted files are not graded (the message says to clear outputs)
MAX_MESSAGE_MB = 64  # largest reply accepted from the process running student code (real ones are under 1 MB)
