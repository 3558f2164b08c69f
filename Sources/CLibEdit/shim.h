// libedit's headers need <stdio.h> first.
#include <stdio.h>
#include <histedit.h>
#include <editline/readline.h>
