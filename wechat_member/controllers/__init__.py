from . import main
from . import member_page
from . import store_page
from . import preorder_page
