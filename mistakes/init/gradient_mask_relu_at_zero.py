"""ReLU's derivative taken as 1 at z = 0: the mask z >= 0 instead of z > 0. At width 100 no z is
exactly 0 and nothing differs; at width 3 a row of x all zero after a ReLU gives z = 0 exactly."""
# loses: gradient_variances
# caught by: gradient_variances: the gradient variances equal the experiment re-run on your own initialisers
# passes: gradient_variances: He holds the gradient's variance steady down the layers
# told: ReLU's derivative taken as 1 at z = 0
# mistake: ReLU's derivative taken as 1 at z = 0 (the mask z >= 0)
# teaches: ReLU's derivative is 1 where z > 0 and 0 elsewhere, z = 0 included


def gradient_variances(init, depth=10, width=100, n=1000, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, width, generator=g)
    layers = []
    for _ in range(depth):
        w = INITS[init](width, width, g)
        z = x @ w
        layers.append((z, w))
        x = torch.relu(z)
    d = torch.randn(n, width, generator=g)
    out = [d.var()]
    for z, w in reversed(layers):
        d = (d * (z >= 0)) @ w.T
        out.append(d.var())
    return torch.stack(out)
