"""Optimizers and scene/task files from Python."""

import pathlib

import numpy as np
import pytest

import maya

SCENES = pathlib.Path(__file__).resolve().parents[2] / "examples" / "scenes"


def test_adam_and_lbfgs_minimize_a_quadratic_from_a_tape_loss():
    target = np.array([1.0, -2.0, 0.5])

    def loss(tape, x):
        return maya.sum((x - target).square())

    for make in (lambda p: maya.optim.Adam(p, maya.optim.AdamOptions(learning_rate=0.1)),
                 lambda p: maya.optim.Lbfgs(p)):
        params = maya.optim.ParameterSet()
        params.add("x", np.zeros(3))
        optimizer = make(params)
        result = optimizer.minimize(maya.optim.tape_objective(loss),
                                    maya.optim.MinimizeOptions(max_iterations=500,
                                                               tolerance=1e-9))
        assert np.allclose(np.asarray(params.value(0)), target, atol=1e-6)
        assert result.loss < 1e-10


def test_objective_from_a_python_callable_and_positive_parameters():
    def objective(values, gradients):
        (k,) = values
        gradients[0][:] = 2 * (k - 3.0)
        return float(np.sum((k - 3.0) ** 2))

    params = maya.optim.ParameterSet()
    params.add("k", np.array([1.0]), maya.optim.Positive.exp())
    result = maya.optim.Lbfgs(params).minimize(maya.optim.Objective(objective))
    assert np.asarray(params.value("k"))[0] == pytest.approx(3.0, rel=1e-6)
    assert result.converged
    with pytest.raises(maya.ValueError):
        params.add("k", np.array([1.0]))


def test_scene_file_loads_and_simulates():
    scene = maya.io.load_scene(SCENES / "lattice_drop.json")
    trajectory = maya.io.simulate(scene)
    assert trajectory.positions.shape == (scene.steps + 1, len(scene.particles), 2)


def test_task_file_loss_gradients_and_fit():
    task = maya.io.SpringTask(maya.io.load_task(SCENES / "spring_sysid.json"))
    params = task.parameters()
    initial = task.loss(params.values)
    summary = maya.io.gradcheck_task(task, 1e-6)
    assert summary.max_error() < 1e-4
    result = maya.optim.Lbfgs(params).minimize(task.objective(),
                                               maya.optim.MinimizeOptions(max_iterations=20))
    assert result.loss < initial


def test_noisy_fit_reports_standard_errors_whose_intervals_hold_the_truth():
    task = maya.io.Task(maya.io.load_task(SCENES / "spring_noisy_sysid.json"))
    params = task.parameters()
    maya.optim.Lbfgs(params).minimize(task.objective(),
                                      maya.optim.MinimizeOptions(max_iterations=200,
                                                                 tolerance=1e-12))
    fitted = list(params.values)
    residuals = np.array(task.residuals(fitted))
    assert residuals.size == 608
    uncertainty = task.uncertainty(fitted)
    assert uncertainty.available, uncertainty.reason
    assert abs(uncertainty.sigma - 0.002) < 0.0002  # the noise the task added
    for value, error, truth in zip(fitted, uncertainty.standard_error, task.true_values()):
        assert abs(np.asarray(value)[0] - truth[0]) <= 1.96 * error[0]


def test_soft_body_scene_simulates_its_vertices_and_fits_its_modulus():
    scene = maya.io.load_scene(SCENES / "soft_block_drop.json")
    assert scene.soft_body.num_vertices == 15
    assert len(scene.soft_body.triangles) == 16 * 3
    run = maya.io.simulate(scene)
    assert run.positions.shape == (601, 15, 2)
    task = maya.io.Task(maya.io.load_task(SCENES / "soft_block_sysid.json"))
    assert maya.io.gradcheck_task(task, 1e-6).max_error() < 1e-5


def test_hard_contact_scene_reads_its_joints():
    scene = maya.io.load_scene(SCENES / "pendulum_hard.json")
    assert scene.hard_contact.joints[0].body_b is None
    assert scene.hard_contact.restitution == 0.3


def test_bad_scene_raises_parse_error_with_the_path():
    with pytest.raises(maya.ParseError) as error:
        maya.io.parse_scene_text('{"dt": -1, "particles": []}', "scene.json")
    assert isinstance(error.value, ValueError)
    assert "dt" in str(error.value)
    with pytest.raises(maya.Error):
        maya.io.load_scene("no/such/file.json")


def test_npy_bytes_round_trip_through_numpy(tmp_path):
    values = np.arange(6.0).reshape(2, 3)
    path = tmp_path / "values.npy"
    path.write_bytes(maya.io.npy_bytes(values))
    assert np.array_equal(np.load(path), values)
    assert np.array_equal(np.asarray(maya.io.parse_npy(path.read_bytes())), values)
