from . import main
from . import member_page
