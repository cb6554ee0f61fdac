"""The network diagram: a model's layers drawn as columns of units, animated from step traces.

`network.NetworkDiagram` is the widget; `layout` plans the columns, `data` turns a trace
into what is drawn, `scene`/`render`/`items` draw it, `highlight`/`interaction`/`chrome`
handle the learner's hovering, editing and the controls around it, `formulas` words each number.
"""
