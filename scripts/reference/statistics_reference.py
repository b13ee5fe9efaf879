#!/usr/bin/python3
"""Reference values for Herald's statistics core (src/pipeline/measure/statistics).

Computed with independent implementations -- scipy, statsmodels and, for tails beyond double
precision, mpmath at 50 significant digits -- and written to
src/pipeline/measure/statistics/fixtures/reference.json, which the TypeScript tests read.
The tests never run Python; rerun this only when the set of inputs changes.

Regenerate (Debian: apt-get install -y python3-scipy python3-numpy python3-statsmodels):

    /usr/bin/python3 scripts/reference/statistics_reference.py
    npx prettier --write src/pipeline/measure/statistics/fixtures/reference.json

(About two minutes, mostly the 50-digit Evan Miller sums for the 10^6-trial beta comparison.)

It also reads the Hillstrom e-mail experiment (../shared/data/hillstrom/hillstrom.csv, see
../shared/data/README.md) and stores only per-arm counts and summary statistics, not the CSV.
"""

import csv
import json
import math
import os
import sys

import mpmath
import numpy as np
import scipy
import scipy.integrate as si
import scipy.special as sc
import scipy.stats as st
import statsmodels
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportions_ztest,
)
from statsmodels.stats.weightstats import ttest_ind as sm_ttest_ind

mpmath.mp.dps = 50

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "src/pipeline/measure/statistics/fixtures/reference.json")
HILLSTROM = os.path.join(ROOT, "..", "shared", "data", "hillstrom", "hillstrom.csv")


def f(x):
    """A plain float for JSON (numpy scalars are not serialisable)."""
    return float(x)


def mp_log_chi2_sf(x, df):
    return f(mpmath.log(mpmath.gammainc(mpmath.mpf(df) / 2, mpmath.mpf(x) / 2, mpmath.inf, regularized=True)))


def mp_log_t_sf(t, df):
    t, df = mpmath.mpf(t), mpmath.mpf(df)
    tail = mpmath.betainc(df / 2, mpmath.mpf(1) / 2, 0, df / (df + t * t), regularized=True) / 2
    return f(mpmath.log(tail if t >= 0 else 1 - tail))


def mp_log_norm_sf(z):
    return f(mpmath.log(mpmath.erfc(mpmath.mpf(z) / mpmath.sqrt(2)) / 2))


def normal():
    zs = [-40, -38.5, -20, -10, -8.3, -5, -3, -1.959963984540054, -1, -0.5, 0, 1e-8, 0.3, 1,
          1.6448536269514722, 1.959963984540054, 2.5, 3, 5, 8.3, 10, 20, 37.5, 38.5, 40]
    return [
        {
            "z": z,
            "cdf": f(st.norm.cdf(z)),
            "sf": f(st.norm.sf(z)),
            "logSf": f(st.norm.logsf(z)),
            "logSfMp": mp_log_norm_sf(z),
            "logCdf": f(st.norm.logcdf(z)),
        }
        for z in zs
    ]


def quantiles():
    ps = [1e-300, 1e-10, 0.001, 0.005, 0.025, 0.05, 0.2, 0.5, 0.8, 0.9, 0.95, 0.975, 0.995, 0.999]
    return [{"p": p, "z": f(st.norm.ppf(p))} for p in ps]


def chi_square():
    cases = [(0.001, 1), (0.5, 1), (3.841458820694124, 1), (10, 1), (50, 1), (700, 1), (1500, 1),
             (2000, 1), (0.5, 2), (5.991464547107979, 2), (10, 3), (100, 3), (3, 10), (30, 10),
             (200, 50), (1, 100), (150, 100), (2500, 4), (0.2, 0.5), (12.5, 7.3)]
    return [
        {"x": x, "df": df, "sf": f(st.chi2.sf(x, df)), "logSf": mp_log_chi2_sf(x, df)}
        for x, df in cases
    ]


def gamma_q():
    cases = [(0.5, 0.1), (0.5, 1.4), (0.5, 1.6), (1, 3), (2.5, 2), (3.5, 4.6), (10, 5), (10, 20),
             (50, 40), (50, 70), (200, 180), (0.25, 30)]
    return [{"a": a, "x": x, "q": f(sc.gammaincc(a, x)), "p": f(sc.gammainc(a, x))} for a, x in cases]


def log_gamma():
    xs = [1e-8, 0.1, 0.5, 1, 1.5, 2, 2.5, 3.7, 10, 25.5, 100, 1234.5, 1e6]
    return [{"x": x, "value": f(sc.gammaln(x))} for x in xs]


def student_t():
    cases = [(0.5, 3), (2.0, 5), (-1.5, 10), (2.5, 1), (1.96, 30), (4, 2.5), (3, 100.7),
             (0.001, 40000), (10, 1000), (40, 5), (200, 50), (60, 20000), (-3, 7)]
    return [
        {"t": t, "df": df, "sf": f(st.t.sf(t, df)), "logSf": mp_log_t_sf(t, df)}
        for t, df in cases
    ]


def beta_i():
    cases = [(0.3, 2, 3), (0.9, 0.5, 0.5), (0.01, 5, 1.5), (0.999, 100, 2), (0.5, 1000, 1000),
             (0.2, 0.5, 20000)]
    return [{"x": x, "a": a, "b": b, "value": f(sc.betainc(a, b, x))} for x, a, b in cases]


def z_tests():
    cases = [(45, 500, 30, 500), (1, 20, 0, 25), (130, 1000, 100, 1000), (5000, 10000, 4000, 10000),
             (120000, 200000, 100000, 200000), (3, 7, 5, 9)]
    out = []
    for x1, n1, x2, n2 in cases:
        z, p = proportions_ztest([x1, x2], [n1, n2])
        pooled = (x1 + x2) / (n1 + n2)
        zz = (x1 / n1 - x2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        out.append({
            "successes1": x1, "trials1": n1, "successes2": x2, "trials2": n2,
            "z": f(z), "p": f(p),
            # two-sided log p = log 2 + log sf(|z|), via scipy's log_ndtr (no underflow)
            "logP": f(math.log(2) + st.norm.logsf(abs(zz))),
        })
    return out


def chi_square_tests():
    tables = [
        [[45, 455], [30, 470]],
        [[3, 7], [5, 4]],
        [[12, 5, 9], [88, 95, 91]],
        [[578, 454, 306, 0], [21307 - 578, 21387 - 454, 21306 - 306, 10]],
        [[5000, 4000], [5000, 6000]],
        [[120000, 100000, 90000], [80000, 100000, 110000]],
        [[0, 2], [10, 8]],
    ]
    out = []
    for table in tables:
        row = {"table": table}
        for corrected in (False, True):
            stat, p, dof, _ = st.chi2_contingency(np.array(table), correction=corrected)
            row["corrected" if corrected else "uncorrected"] = {
                "statistic": f(stat), "df": int(dof), "p": f(p), "logP": mp_log_chi2_sf(stat, dof),
            }
        out.append(row)
    return out


def welch_tests():
    # (n1, mean1, variance1, n2, mean2, variance2), sample variances (ddof = 1)
    cases = [(12, 5.1, 2.3, 15, 4.2, 0.9), (3, 10.0, 4.0, 40, 12.5, 25.0),
             (21307, 1.4226, 312.9, 21306, 0.6528, 181.2), (100, 50.0, 1.0, 100, 45.0, 1.0),
             (8, -1.0, 0.5, 6, 1.0, 3.0)]
    out = []
    for n1, m1, v1, n2, m2, v2 in cases:
        t, p = st.ttest_ind_from_stats(m1, math.sqrt(v1), n1, m2, math.sqrt(v2), n2, equal_var=False)
        a, b = v1 / n1, v2 / n2
        df = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n2 - 1))
        out.append({
            "n1": n1, "mean1": m1, "variance1": v1, "n2": n2, "mean2": m2, "variance2": v2,
            "t": f(t), "df": f(df), "p": f(p), "logP": f(math.log(2) + mp_log_t_sf(abs(t), df)),
        })
    return out


def wilson():
    cases = [(0, 10), (1, 10), (10, 10), (45, 500), (3, 1000), (500, 1000), (1, 1)]
    out = []
    for x, n in cases:
        for alpha in (0.05, 0.01):
            lo, hi = proportion_confint(x, n, alpha=alpha, method="wilson")
            out.append({"successes": x, "trials": n, "alpha": alpha, "lower": f(lo), "upper": f(hi)})
    return out


def newcombe():
    cases = [(45, 500, 30, 500), (1, 20, 0, 25), (0, 10, 0, 10), (10, 10, 3, 12), (56, 70, 48, 80),
             (9, 10, 3, 10)]
    out = []
    for x1, n1, x2, n2 in cases:
        for alpha in (0.05, 0.01):
            lo, hi = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff",
                                                alpha=alpha)
            out.append({"successes1": x1, "trials1": n1, "successes2": x2, "trials2": n2,
                        "alpha": alpha, "lower": f(lo), "upper": f(hi)})
    return out


def relative_lift():
    cases = [(45, 500, 30, 500), (130, 1000, 100, 1000), (5, 40, 9, 41), (578, 21307, 306, 21306)]
    out = []
    for x1, n1, x2, n2 in cases:
        for alpha in (0.05, 0.1):
            lo, hi = confint_proportions_2indep(x1, n1, x2, n2, method="log", compare="ratio",
                                                alpha=alpha)
            out.append({"successes1": x1, "trials1": n1, "successes2": x2, "trials2": n2,
                        "alpha": alpha, "lift": f((x1 / n1) / (x2 / n2) - 1),
                        "lower": f(lo - 1), "upper": f(hi - 1)})
    return out


def sample_ratio():
    cases = [([21307, 21387, 21306], [1, 1, 1]), ([10400, 9600], [1, 1]), ([5000, 5100], [0.5, 0.5]),
             ([1000, 2000, 3000], [1, 2, 3]), ([60000, 40000], [1, 1]), ([980, 2050, 2970], [1, 2, 3])]
    out = []
    for observed, weights in cases:
        total = sum(observed)
        expected = [total * w / sum(weights) for w in weights]
        stat, p = st.chisquare(observed, f_exp=expected)
        out.append({"observed": observed, "weights": weights, "statistic": f(stat),
                    "df": len(observed) - 1, "p": f(p),
                    "logP": mp_log_chi2_sf(stat, len(observed) - 1)})
    return out


def adjustments():
    lists = [[0.01, 0.04, 0.03, 0.005, 0.2], [0.01, 0.01, 0.04, 0.04], [0.5], [0.3, 0.6, 0.9, 0.95],
             [1e-300, 0.02, 0.049, 0.051, 0.7, 0.0001]]
    return [{"p": ps, "holm": [f(x) for x in multipletests(ps, method="holm")[1]],
             "bh": [f(x) for x in multipletests(ps, method="fdr_bh")[1]]} for ps in lists]


def sample_size():
    """Per-arm n and power of the pooled two-sided z-test (the formula of R's power.prop.test,
    Fleiss, Levin & Paik 2003 eq. 4.14 without continuity correction), written here with scipy's
    normal quantiles as an independent implementation."""
    cases = [(0.5, 0.75, 0.05, 0.9), (0.1, 0.11, 0.05, 0.8), (0.02, 0.025, 0.01, 0.9),
             (0.3, 0.25, 0.05, 0.8), (0.05, 0.06, 0.1, 0.95)]
    out = []
    for p1, p2, alpha, power in cases:
        za, zb = st.norm.ppf(1 - alpha / 2), st.norm.ppf(power)
        pbar = (p1 + p2) / 2
        n = (za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / (p1 - p2) ** 2
        powers = []
        for m in (100, 1000, 5000):
            powers.append({"n": m, "power": f(st.norm.cdf(
                (math.sqrt(m) * abs(p1 - p2) - za * math.sqrt(2 * pbar * (1 - pbar)))
                / math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))))})
        out.append({"baselineRate": p1, "treatmentRate": p2, "alpha": alpha, "power": power,
                    "nPerArm": f(n), "powerAt": powers})
    return out


def hillstrom():
    arms = {}
    with open(HILLSTROM, newline="") as handle:
        for row in csv.DictReader(handle):
            arm = arms.setdefault(row["segment"], {"n": 0, "conversions": 0, "visits": 0, "spend": []})
            arm["n"] += 1
            arm["conversions"] += int(row["conversion"])
            arm["visits"] += int(row["visit"])
            arm["spend"].append(float(row["spend"]))
    summary = {}
    for name, arm in arms.items():
        spend = np.array(arm["spend"])
        summary[name] = {"n": arm["n"], "conversions": arm["conversions"], "visits": arm["visits"],
                         "spendMean": f(spend.mean()), "spendVariance": f(spend.var(ddof=1))}
    control = "No E-Mail"
    comparisons = []
    for treatment in ("Mens E-Mail", "Womens E-Mail"):
        a, b = arms[treatment], arms[control]
        z, p = proportions_ztest([a["conversions"], b["conversions"]], [a["n"], b["n"]])
        t, tp, tdf = sm_ttest_ind(np.array(a["spend"]), np.array(b["spend"]), usevar="unequal")
        lo, hi = confint_proportions_2indep(a["conversions"], a["n"], b["conversions"], b["n"],
                                            method="newcomb", compare="diff")
        comparisons.append({"treatment": treatment, "control": control,
                            "conversionZ": f(z), "conversionP": f(p),
                            "conversionNewcombe": [f(lo), f(hi)],
                            "spendT": f(t), "spendDf": f(tdf), "spendP": f(tp)})
    names = ["Mens E-Mail", "Womens E-Mail", control]
    table = [[arms[k]["conversions"] for k in names], [arms[k]["n"] - arms[k]["conversions"] for k in names]]
    stat, p, dof, _ = st.chi2_contingency(np.array(table), correction=False)
    counts = [arms[k]["n"] for k in names]
    srm_stat, srm_p = st.chisquare(counts)
    return {"arms": summary, "order": names, "comparisons": comparisons,
            "conversionChiSquare": {"statistic": f(stat), "df": int(dof), "p": f(p)},
            "sampleRatio": {"statistic": f(srm_stat), "p": f(srm_p)}}


def mp_prob_greater_integer(ax, bx, ay, by):
    """Pr(X > Y) for X ~ Beta(ax, bx), Y ~ Beta(ay, by) with integer ax: Evan Miller's closed-form
    sum, sum_{i<ax} B(ay+i, bx+by) / ((bx+i) B(1+i, bx) B(ay, by)), at 50 digits."""
    ax, bx, ay, by = int(ax), mpmath.mpf(bx), mpmath.mpf(ay), mpmath.mpf(by)
    log_b = lambda a, b: mpmath.loggamma(a) + mpmath.loggamma(b) - mpmath.loggamma(a + b)
    return mpmath.fsum(
        mpmath.exp(log_b(ay + i, bx + by) - mpmath.log(bx + i) - log_b(1 + i, bx) - log_b(ay, by))
        for i in range(ax)
    )


def mp_prob_greater_quad(ax, bx, ay, by):
    """Pr(X > Y) = integral of f_Y(y) (1 - I_y(ax, bx)) dy by mpmath tanh-sinh quadrature."""
    ay, by = mpmath.mpf(ay), mpmath.mpf(by)
    log_b = mpmath.loggamma(ay) + mpmath.loggamma(by) - mpmath.loggamma(ay + by)
    return mpmath.quad(
        lambda y: mpmath.exp((ay - 1) * mpmath.log(y) + (by - 1) * mpmath.log(1 - y) - log_b)
        * mpmath.betainc(ax, bx, y, 1, regularized=True),
        [0, 0.25, 0.5, 0.75, 1],
    )


def scipy_beta_comparison(at, bt, ac, bc):
    """Independent check by scipy.integrate.quad (adaptive Gauss-Kronrod) of the defining
    integrals: Pr(T > C) and E[max(C - T, 0)], E[max(T - C, 0)] as double integrals in 1-D form."""
    lo = min(st.beta.ppf(1e-13, at, bt), st.beta.ppf(1e-13, ac, bc))
    hi = max(st.beta.isf(1e-13, at, bt), st.beta.isf(1e-13, ac, bc))
    points = sorted({st.beta.mean(at, bt), st.beta.mean(ac, bc)})
    opts = {"epsabs": 1e-14, "epsrel": 1e-12, "limit": 500, "points": points}
    chance = si.quad(lambda y: st.beta.pdf(y, ac, bc) * st.beta.sf(y, at, bt), lo, hi, **opts)[0]

    # E[max(C - T, 0)] = int f_T(t) int_t^1 (c - t) f_C(c) dc dt, inner part via partial moments
    def inner(t, a, b):  # int_t^1 (c - t) f(c) dc for Beta(a, b)
        return a / (a + b) * st.beta.sf(t, a + 1, b) - t * st.beta.sf(t, a, b)

    loss_t = si.quad(lambda t: st.beta.pdf(t, at, bt) * inner(t, ac, bc), lo, hi, **opts)[0]
    loss_c = si.quad(lambda c: st.beta.pdf(c, ac, bc) * inner(c, at, bt), lo, hi, **opts)[0]
    return chance, loss_t, loss_c


def beta_comparisons():
    """Bayesian chance to beat control and expected losses under Beta priors. Reference: exact at
    50 digits (Evan Miller's sum when the parameters are integers, mpmath quadrature otherwise)
    with the losses from the identity E[max(C - T, 0)] = mu_C Pr(C+ > T) - mu_T Pr(C > T+),
    X+ ~ Beta(a + 1, b); cross-checked here against scipy.integrate.quad of the definitions."""
    cases = [  # (x_t, n_t, x_c, n_c, prior alpha, prior beta)
        (45, 500, 30, 500, 1, 1), (0, 10, 0, 10, 1, 1), (3, 7, 5, 9, 1, 1), (1, 20, 0, 25, 1, 1),
        (130, 1000, 100, 1000, 1, 1), (578, 21307, 306, 21306, 1, 1), (100, 1000, 130, 1000, 1, 1),
        (5, 40, 9, 41, 0.5, 0.5), (12, 100, 10, 100, 2, 30), (1200, 10000, 1195, 10000, 1, 1),
        (100500, 1000000, 100000, 1000000, 1, 1),
    ]
    out = []
    for xt, nt, xc, nc, a0, b0 in cases:
        at, bt, ac, bc = a0 + xt, b0 + nt - xt, a0 + xc, b0 + nc - xc
        integer = all(float(v).is_integer() for v in (at, ac))
        greater = mp_prob_greater_integer if integer else mp_prob_greater_quad
        mu_t, mu_c = mpmath.mpf(at) / (at + bt), mpmath.mpf(ac) / (ac + bc)
        chance = greater(at, bt, ac, bc)
        loss_t = mu_c * greater(ac + 1, bc, at, bt) - mu_t * greater(ac, bc, at + 1, bt)
        loss_c = mu_t * greater(at + 1, bt, ac, bc) - mu_c * greater(at, bt, ac + 1, bc)
        check = scipy_beta_comparison(at, bt, ac, bc)
        for mine, theirs in zip((chance, loss_t, loss_c), check):
            assert abs(f(mine) - theirs) < 1e-9, (xt, nt, xc, nc, f(mine), theirs)
        out.append({"successes1": xt, "trials1": nt, "successes2": xc, "trials2": nc,
                     "priorAlpha": a0, "priorBeta": b0, "chanceToBeatControl": f(chance),
                     "expectedLossTreatment": f(loss_t), "expectedLossControl": f(loss_c)})
    return out


def mixture_sprt():
    """Normal-mixture SPRT of Johari, Koomen, Pekelis & Walsh (2022), at 50 digits:
    Lambda = sqrt(V / (V + tau2)) exp(theta^2 tau2 / (2 V (V + tau2))), p = min(1, 1 / Lambda),
    theta = p1 - p2 and V the pooled variance pbar (1 - pbar) (1/n1 + 1/n2)."""
    cases = [(45, 500, 30, 500, 1e-4), (130, 1000, 100, 1000, 1e-3), (1200, 10000, 1100, 10000, 1e-4),
             (500, 5000, 505, 5000, 1e-4), (5000, 10000, 4000, 10000, 1e-2), (3, 7, 5, 9, 0.01)]
    out = []
    for x1, n1, x2, n2, tau2 in cases:
        x1m, n1m, x2m, n2m, t2 = (mpmath.mpf(v) for v in (x1, n1, x2, n2, tau2))
        theta = x1m / n1m - x2m / n2m
        pooled = (x1m + x2m) / (n1m + n2m)
        v = pooled * (1 - pooled) * (1 / n1m + 1 / n2m)
        log_lambda = mpmath.log(v / (v + t2)) / 2 + theta ** 2 * t2 / (2 * v * (v + t2))
        log_p = min(mpmath.mpf(0), -log_lambda)
        out.append({"successes1": x1, "trials1": n1, "successes2": x2, "trials2": n2,
                    "mixingVariance": tau2, "logLikelihoodRatio": f(log_lambda),
                    "p": f(mpmath.exp(log_p)), "logP": f(log_p)})
    return out


def main():
    doc = {
        "generatedBy": "scripts/reference/statistics_reference.py",
        "versions": {"python": sys.version.split()[0], "scipy": scipy.__version__,
                     "numpy": np.__version__, "statsmodels": statsmodels.__version__,
                     "mpmath": mpmath.__version__},
        "logGamma": log_gamma(), "gammaQ": gamma_q(), "betaI": beta_i(), "normal": normal(),
        "normalQuantile": quantiles(), "chiSquare": chi_square(), "studentT": student_t(),
        "zTests": z_tests(), "chiSquareTests": chi_square_tests(), "welchTests": welch_tests(),
        "wilson": wilson(), "newcombe": newcombe(), "relativeLift": relative_lift(),
        "sampleRatio": sample_ratio(), "adjustments": adjustments(), "sampleSize": sample_size(),
        "hillstrom": hillstrom(), "betaComparisons": beta_comparisons(),
        "mixtureSprt": mixture_sprt(),
    }
    with open(OUT, "w") as handle:
        json.dump(doc, handle, indent=1, allow_nan=False)
        handle.write("\n")


if __name__ == "__main__":
    main()
