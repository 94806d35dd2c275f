"""Reverse mode whose backward loop stops one index late (range(len(graph) - 1, -2, -1)): after
node 0 it visits graph[-1], the output, a second time. Its operands' adjoints are added to
again after they were swept, which changes nothing, unless the output is itself an input node
(f = x[k]): then g[k] gets the output's adjoint twice, 2 instead of 1."""
# loses: grad
# caught by: grad: graphs of any layout: inputs anywhere, repeated or unused
# mistake: the backward sweep runs one step past node 0 (index -1 wraps to the output)
# teaches: sweep each node exactly once, from the last to the first: range(len(graph) - 1, -1, -1)


def grad(graph, x):
    xs = x.tolist()
    vals = _forward(graph, xs)
    adj = [0.0] * len(graph)
    adj[-1] = 1.0
    g = [0.0] * len(xs)
    for k in range(len(graph) - 1, -2, -1):
        node, a = graph[k], adj[k]
        if a == 0.0:
            continue
        if node[0] == "input":
            g[node[1]] += a
        for i, d in _partials(node, vals, vals[k]):
            adj[i] += a * d
    return torch.tensor(vals[-1], dtype=torch.float64), torch.tensor(g, dtype=torch.float64)
