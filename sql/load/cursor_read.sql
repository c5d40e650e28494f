SELECT name, position FROM gcc_cursors WHERE name = ANY (%(names)s::text[])
