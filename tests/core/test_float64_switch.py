"""float64 is switched on explicitly, never as a side effect of importing a module.

The test process itself runs with x64 on (conftest), so the checks run in a fresh interpreter.
"""

import subprocess
import sys
import textwrap

CHECK = textwrap.dedent("""
    import importlib, pkgutil
    import jax, numpy as np
    import scalinglaws

    names = [m.name for m in pkgutil.walk_packages(scalinglaws.__path__, "scalinglaws.")]
    for name in names:
        importlib.import_module(name)
    print(len(names), jax.config.jax_enable_x64)

    from scalinglaws import core
    from scalinglaws.laws.power_law import power_law as law

    x = np.geomspace(1e8, 1e11, 8)
    z = law.prepare(x[:, None])
    target = np.log(2.0 + 300.0 * x ** -0.3)
    result = core.fit(core.Model(law.log_predict), law.default_starts(), z, target)
    print(jax.config.jax_enable_x64, result.theta.dtype)
""")


def test_importing_any_module_leaves_float64_off_and_a_fit_switches_it_on():
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    imported, after_import = done.stdout.splitlines()[0].split()
    assert int(imported) > 50 and after_import == "False", done.stdout
    assert done.stdout.splitlines()[1] == "True float64", done.stdout
